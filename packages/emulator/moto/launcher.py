"""Runs moto_server with CloudFormation support for AWS::RolesAnywhere::* resources.

Usage: IAM_RA_EMULATOR_URL=http://127.0.0.1:PORT python3 launcher.py -H 127.0.0.1 -p 5000

The TrustAnchor, Profile and CRL resources of a stack are created, updated and deleted through
the control-plane API of the iam-ra emulator at IAM_RA_EMULATOR_URL (see docs/emulator.md). A
resource the emulator refuses rolls the stack back, as in AWS. Every argument is moto_server's.
AWS Private CA stacks work too (AWS::ACMPCA::* models over moto's own backend), and a revocation
publishes the CA's CRL to its S3 bucket (iam_ra_moto/pca.py).

The moto installed must be one this plugin supports (iam_ra_moto/version.py; requirements.txt pins
it): otherwise the launcher exits with status 2 and says how to install it, unless
IAM_RA_MOTO_ANY_VERSION=1 is set.
"""

import os
import sys

# Keep the source tree free of __pycache__ folders.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto  # noqa: E402

from iam_ra_moto.version import check_moto_version  # noqa: E402

_check = check_moto_version(str(getattr(moto, "__version__", "unknown")), os.environ)
if _check.message:
    print(_check.message, file=sys.stderr)
if not _check.ok:
    sys.exit(2)

# moto collects CloudFormation models with CloudFormationModel.__subclasses__() the first time a
# template is parsed, so the models must be defined (imported) before the server starts.
import iam_ra_moto.rolesanywhere  # noqa: E402, F401
from iam_ra_moto.iam import install_role_trust_policy_update  # noqa: E402
from iam_ra_moto.pca import install_crl_publication  # noqa: E402
from iam_ra_moto.s3 import install_atomic_conditional_put  # noqa: E402
from iam_ra_moto.stacks import (  # noqa: E402
    install_change_set_outputs,
    install_parameter_default_diff,
    install_stack_rollback,
)
from moto.server import main  # noqa: E402

if __name__ == "__main__":
    # Fixes of moto's CloudFormation that make stacks behave as in AWS (see each one).
    install_stack_rollback()
    install_parameter_default_diff()
    install_change_set_outputs()
    install_atomic_conditional_put()
    install_role_trust_policy_update()
    install_crl_publication()
    main(sys.argv[1:])
