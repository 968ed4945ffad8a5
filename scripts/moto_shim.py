"""Start moto's server with fixes for responses the Rust AWS SDK rejects.

moto 5.2.5 names the XML root of some S3 responses `<{Operation}Response>`; botocore ignores
root names, but the Rust SDK checks them against the real service's (`VersioningConfiguration`,
`Tagging`, ...) and fails to parse. This renames those roots and changes nothing else.
Usage: python moto_shim.py [moto_server args...]
"""

import sys

from moto.core import serialize

S3_ROOTS = {
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketAcl": "AccessControlPolicy",
    "GetPublicAccessBlock": "PublicAccessBlockConfiguration",
    "GetBucketOwnershipControls": "OwnershipControls",
}

_original = serialize.S3Serializer._serialized_result_to_response


def _with_real_roots(self, resp, result, shape, serialized_result):
    resp = _original(self, resp, result, shape, serialized_result)
    root = S3_ROOTS.get(self.operation_model.name)
    body = resp.get("body")
    if root and isinstance(body, str):
        wrong = f"{self.operation_model.name}Response"
        resp["body"] = body.replace(f"<{wrong}", f"<{root}", 1).replace(f"</{wrong}>", f"</{root}>", 1)
    return resp


serialize.S3Serializer._serialized_result_to_response = _with_real_roots

from moto.server import main  # noqa: E402  (after the patch on purpose)

sys.exit(main())
