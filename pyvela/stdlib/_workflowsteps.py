"""The standard workflow steps, gathered for ``pyvela.stdlib`` (which re-exports ``__all__``).

``apply-component`` is pyvela's own built-in (every app has it), re-exported so that an explicit
workflow imports all of KubeVela's steps from one place.
"""

from pyvela import apply_component

from .steps_config import (
    CreateConfigParams,
    DeleteConfigParams,
    ListConfigOutputs,
    ListConfigParams,
    ReadConfigOutputs,
    ReadConfigParams,
    create_config,
    delete_config,
    list_config,
    read_config,
)
from .steps_deploy import DeployParams, deploy
from .steps_endpoints import (
    CollectServiceEndpointsOutputs,
    CollectServiceEndpointsParams,
    collect_service_endpoints,
)
from .steps_flow import (
    DependsOnAppParams,
    PrintMessageParams,
    RestartWorkflowOutputs,
    RestartWorkflowParams,
    SuspendParams,
    depends_on_app,
    print_message_in_status,
    restart_workflow,
    step_group,
    suspend,
)
from .steps_objects import (
    ApplyObjectParams,
    CleanJobsParams,
    DockerRegistry,
    Export2ConfigParams,
    Export2SecretParams,
    ExportDataParams,
    ExportServiceParams,
    ObjectOutputs,
    ReadObjectParams,
    apply_object,
    clean_jobs,
    export2config,
    export2secret,
    export_data,
    export_service,
    read_object,
)
from .unsupported import UNSUPPORTED_STEPS

__all__ = [
    "UNSUPPORTED_STEPS",
    "ApplyObjectParams",
    "CleanJobsParams",
    "CollectServiceEndpointsOutputs",
    "CollectServiceEndpointsParams",
    "CreateConfigParams",
    "DeleteConfigParams",
    "DependsOnAppParams",
    "DeployParams",
    "DockerRegistry",
    "Export2ConfigParams",
    "Export2SecretParams",
    "ExportDataParams",
    "ExportServiceParams",
    "ListConfigOutputs",
    "ListConfigParams",
    "ObjectOutputs",
    "PrintMessageParams",
    "ReadConfigOutputs",
    "ReadConfigParams",
    "ReadObjectParams",
    "RestartWorkflowOutputs",
    "RestartWorkflowParams",
    "SuspendParams",
    "apply_component",
    "apply_object",
    "clean_jobs",
    "collect_service_endpoints",
    "create_config",
    "delete_config",
    "depends_on_app",
    "deploy",
    "export2config",
    "export2secret",
    "export_data",
    "export_service",
    "list_config",
    "print_message_in_status",
    "read_config",
    "read_object",
    "restart_workflow",
    "step_group",
    "suspend",
]
