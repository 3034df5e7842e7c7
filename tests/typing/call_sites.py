# pyright: strict
# Call sites as an app developer writes them. Lines ending in "# E: <words>" must be
# reported by both mypy --strict and pyright; every other line must be clean.
from platform_defs import apply_base, apply_proxy, base_service, ingress
from pyvela import Application

base = base_service("base-service", image="nginx:1.14.2", cluster="default").with_traits(
    ingress(domain="base-service.dev.example.com", http={"/": 11001}),
)
step = apply_base("apply-base-service", component="base-service")
ip: str = step.outputs.cluster_ip
proxy = apply_proxy("apply-proxy-service", component="proxy-service", backend_ip=step.outputs.cluster_ip)
app = Application("typed", components=[base], workflow=[step, proxy])

wrong_type = base_service("b", image=3, cluster="c")  # E: image
misspelt = base_service("b", imag="x", cluster="c")  # E: imag
missing = base_service("b", image="x")  # E: cluster
no_name = base_service(image="x", cluster="c")  # E: name
bad_items = ingress(domain="d", http={"/": "80"})  # E: http
bad_output = step.outputs.cluster  # E: cluster
wrong_output_type: int = step.outputs.cluster_ip  # E: int
