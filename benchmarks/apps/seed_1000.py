"""1,000 components of the seed's own shape (base-service + ingress: 3 objects each, templated).

``python -m pyvela render benchmarks/apps/seed_1000.py`` is the path a user takes; see
benchmarks/render_cli.py. ``PYVELA_BENCH_N`` changes the count.
"""

import os

from platform_defs import base_service, ingress
from pyvela import Application

N = int(os.environ.get("PYVELA_BENCH_N", "1000"))

app = Application(
    "seed-scale",
    components=[
        base_service(f"svc-{i}", image=f"registry.example/svc:{i}", cluster="default").with_traits(
            ingress(domain=f"svc-{i}.dev.example.com", http={"/": 11001}),
        )
        for i in range(N)
    ],
)
