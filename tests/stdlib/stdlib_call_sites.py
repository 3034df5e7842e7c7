# pyright: strict
# Call sites of the standard library as an app developer writes them. Lines ending in
# "# E: <words>" must be reported by both mypy --strict and pyright; the others must be clean.
from pyvela import Application
from pyvela.stdlib import (
    EnvValueFrom,
    EnvVar,
    HealthProbe,
    HttpGetAction,
    KeyRef,
    Port,
    PvcMount,
    VolumeMounts,
    env,
    gateway,
    resource,
    scaler,
    task,
    webservice,
)

web = webservice(
    "web",
    image="nginx:1.27",
    ports=(Port(port=80, expose=True),),
    expose_type="NodePort",
    env=(EnvVar(name="P", value_from=EnvValueFrom(secret_key_ref=KeyRef(name="s", key="k"))),),
    volume_mounts=VolumeMounts(pvc=(PvcMount(name="d", mount_path="/d", claim_name="c"),)),
    readiness_probe=HealthProbe(http_get=HttpGetAction(path="/", port=80)),
).with_traits(
    scaler(replicas=2),
    gateway(domain="example.com", http={"/": 80}),
    env(env={"A": "1"}),
    resource(cpu=0.5, memory="1Gi"),
)
job = task("job", image="busybox", count=2)
app = Application("typed-stdlib", components=[web, job])

bad_image = webservice("w", image=1)  # E: image
bad_enum = webservice("w", image="i", expose_type="Ingress")  # E: expose_type
misspelt = webservice("w", imag="i")  # E: imag
bad_port = Port(port="80")  # E: port
bad_items = gateway(http={"/": "80"})  # E: http
bad_count = task("t", image="i", count="2")  # E: count
no_name = webservice(image="i")  # E: name
