"""moto add-ons of iam-ra: CloudFormation models moto lacks, backed by the iam-ra emulator.

Importing ``iam_ra_moto.rolesanywhere`` (before moto parses its first template) registers them.
"""
