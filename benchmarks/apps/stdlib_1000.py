"""1,000 standard ``webservice`` components, each with the ``gateway`` and ``scaler`` traits
(issue 11's scale app: a Deployment, a Service and an Ingress each, 3,000 objects).

``python -m pyvela render benchmarks/apps/stdlib_1000.py`` is the path a user takes; see
benchmarks/render_cli.py. ``PYVELA_BENCH_N`` changes the count.
"""

import os

from pyvela import Application
from pyvela.stdlib import EnvVar, Port, gateway, scaler, webservice

N = int(os.environ.get("PYVELA_BENCH_N", "1000"))

app = Application(
    "stdlib-scale",
    components=[
        webservice(
            f"web-{i}",
            image=f"registry.example/web:{i}",
            ports=(Port(port=8080),),
            env=(EnvVar(name="SERVICE_INDEX", value=str(i)),),
            cpu="250m",
            memory="256Mi",
        ).with_traits(
            gateway(domain=f"web-{i}.apps.example.com", http={"/": 8080}),
            scaler(replicas=2),
        )
        for i in range(N)
    ],
)
