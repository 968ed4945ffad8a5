"""`custodian` with one change for emulators: its SQS resource pins the public endpoint
(c7n/resources/sqs.py `get_client`), which would bypass AWS_ENDPOINT_URL. With an endpoint
override set, let boto pick it as it does for every other service. Nothing else differs."""

import os
import sys

from c7n import cli
from c7n.resources import load_resources
from c7n.utils import local_session

load_resources(("aws.sqs",))
from c7n.resources.sqs import SQS  # noqa: E402  (registered by load_resources)

if os.environ.get("AWS_ENDPOINT_URL"):
    SQS.get_client = lambda self: local_session(self.session_factory).client("sqs")

sys.exit(cli.main())
