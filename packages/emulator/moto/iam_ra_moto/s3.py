"""Makes moto's S3 conditional writes atomic, as S3's are.

moto checks If-Match / If-None-Match and then writes, without a lock, while moto_server answers
requests on several threads: two writers holding the same ETag can both succeed, so a
compare-and-swap (the iam-ra state store) loses an update now and then. S3 itself never does.
"""

import threading

from moto.s3.responses import S3Response

_lock = threading.Lock()


def install_atomic_conditional_put() -> None:
    original = S3Response.put_object

    def put_object(self, *args, **kwargs):
        with _lock:
            return original(self, *args, **kwargs)

    S3Response.put_object = put_object
