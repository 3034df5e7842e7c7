"""The Li Auto case: base-service, Redis and proxy-service, deployed in order.

base-service registers itself in the config centre once ready; proxy-service starts
after base-service and Redis, gets base-service's ClusterIP as ``BackendIP`` and reads
base-service's registration back.
"""

from platform_defs import apply_base, apply_helm, apply_proxy, base_service, helm, ingress, proxy_service
from pyvela import Application

base = base_service("base-service", image="nginx:1.14.2", cluster="default").with_traits(
    ingress(domain="base-service.dev.example.com", http={"/": 11001}),
)
redis = helm(
    "redis",
    chart="redis-cluster",
    version="6.2.7",
    repo_url="https://charts.bitnami.com/bitnami",
    repo_type="helm",
)
proxy = proxy_service("proxy-service", image="nginx:1.14.2", cluster="default").with_traits(
    ingress(domain="proxy-service.dev.example.com", http={"/": 11002}),
)

apply_base_service = apply_base("apply-base-service", component="base-service")
apply_redis = apply_helm("apply-redis", component="redis")
apply_proxy_service = apply_proxy(
    "apply-proxy-service", component="proxy-service", backend_ip=apply_base_service.outputs.cluster_ip
)

app = Application(
    "lixiang-app",
    components=[base, redis, proxy],
    workflow=[apply_base_service, apply_redis, apply_proxy_service],
)
