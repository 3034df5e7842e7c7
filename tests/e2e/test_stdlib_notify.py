"""The HTTP and notification steps on the real control plane: URLs and the SMTP password read
from Secrets through the Kubernetes API (base64 data as the API server stores it), the messages
sent to loopback servers, and none of the secrets in the state record the API server keeps.
Unique app and namespace names, so engineers running at once do not collide.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._workflow.events import Recorder
from pyvela._workflow.state import StateStore
from tests.runner_helpers import ops_for
from tests.stdlib.outbound_servers import DING_TOKEN, PASSWORD, TOKEN, running_hooks, running_smtp

kube, namespace = support.kube, support.namespace  # fixtures
pytestmark = [  # aiosmtpd's own warnings; its plain-text AUTH is the loopback case on purpose
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

APP = """
from pyvela import Application
from pyvela.stdlib import *

def ref(name, key):
    return SecretOrValue(secret_ref=SecretRef(name=name, key=key))

app = Application("{app}", namespace="{ns}", components=[], workflow=[
    request("get", url="{base}/api/repo"),
    webhook("hook", url=ref("hooks", "hook"), data={{"event": "deployed"}}),
    notification("tell",
        email=Email(from_=EmailSender(address="ci@example.org", password=ref("mail", "password"),
                                      host="127.0.0.1", port={port}),
                    to=("dev@example.org",), content=EmailContent(subject="v2", body="live")),
        dingding=DingTalk(url=ref("hooks", "ding"), message=DingMessage(text=DingText(content="v2"))),
        slack=Slack(url=ref("hooks", "slack"), message=SlackMessage(text="v2"))),
])
"""


def _secret(kube: KubeBackend, namespace: str, name: str, **data: str) -> None:
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


def test_notifications_with_secrets_from_the_real_api_server(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    app = f"notify-{uuid.uuid4().hex[:6]}"
    with running_hooks() as hooks, running_smtp() as mailbox:
        _secret(
            kube, namespace, "hooks", hook=hooks.hook_url(), ding=hooks.ding_url(), slack=hooks.slack_url()
        )
        _secret(kube, namespace, "mail", password=PASSWORD)
        path = tmp_path / "app.py"
        path.write_text(APP.format(app=app, ns=namespace, base=hooks.base, port=mailbox.port))
        events = Recorder()
        result = ops_for(path, kube, events=events).deploy()
        assert result.ok, result.to_dict()
        assert result.steps["get"]["outputs"]["response"]["stargazers_count"] == 42
        assert [s.body for s in hooks.to("/hook/")] == [{"event": "deployed"}]
        assert len(hooks.to("/robot/send")) == 1 and len(hooks.to("/services/")) == 1
        assert len(mailbox.mails) == 1 and mailbox.logins == [("ci@example.org", PASSWORD)]
    record = StateStore(kube, app, namespace).load()
    shown = [f"{e.kind} {e.message} {json.dumps(e.data, default=str)}" for e in events.events]
    text = json.dumps(record, default=str) + json.dumps(result.to_dict(), default=str) + "\n".join(shown)
    for secret in (TOKEN, DING_TOKEN, PASSWORD):
        assert secret not in text
