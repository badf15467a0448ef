//! The public names of flytekit 1.16 that Flyte code imports, for import completion and for
//! auto-importing the decorators. Taken from what `flytekit` 1.16.31's modules export (checked in
//! its venv); the descriptions are fledge's own.

/// One importable name: the module it is imported from, and a one-line description.
pub struct ApiName {
    pub module: &'static str,
    pub name: &'static str,
    pub doc: &'static str,
}

const fn n(module: &'static str, name: &'static str, doc: &'static str) -> ApiName {
    ApiName { module, name, doc }
}

/// Names most Flyte code imports, by module. The first entries of `flytekit` sort first.
pub const NAMES: &[ApiName] = &[
    n("flytekit", "task", "decorator: a Python function as a Flyte task"),
    n("flytekit", "workflow", "decorator: a function whose body wires tasks into a DAG"),
    n("flytekit", "dynamic", "decorator: a task that builds its workflow at run time"),
    n("flytekit", "eager", "decorator: an async workflow that runs tasks as it awaits them"),
    n("flytekit", "map_task", "run a task over each element of list inputs"),
    n("flytekit", "conditional", "branch inside a workflow on promise values"),
    n("flytekit", "LaunchPlan", "a workflow with fixed or default inputs, schedules and notifications"),
    n("flytekit", "Resources", "CPU, memory, GPU and storage requests and limits"),
    n("flytekit", "Cache", "cache settings: version, serialize, ignored inputs, policies"),
    n("flytekit", "Secret", "a secret a task requests from the platform"),
    n("flytekit", "ImageSpec", "a container image built from Python packages"),
    n("flytekit", "FlyteFile", "a file that travels between tasks through blob storage"),
    n("flytekit", "FlyteDirectory", "a directory that travels between tasks through blob storage"),
    n("flytekit", "StructuredDataset", "a dataframe-like value stored as Parquet (or another format)"),
    n("flytekit", "kwtypes", "named types for interfaces of instance tasks"),
    n("flytekit", "current_context", "the running task's execution parameters"),
    n("flytekit", "Deck", "an HTML report attached to a task execution"),
    n("flytekit", "CronSchedule", "a cron schedule for a launch plan"),
    n("flytekit", "FixedRate", "a fixed-rate schedule for a launch plan"),
    n("flytekit", "Email", "an e-mail notification of a launch plan"),
    n("flytekit", "Slack", "a Slack notification of a launch plan"),
    n("flytekit", "PagerDuty", "a PagerDuty notification of a launch plan"),
    n("flytekit", "WorkflowFailurePolicy", "whether a workflow stops at the first failed node"),
    n("flytekit", "PodTemplate", "a Kubernetes pod template for a task"),
    n("flytekit", "ContainerTask", "a task that runs any container image"),
    n("flytekit", "reference_task", "a task registered elsewhere, by project/domain/name/version"),
    n("flytekit", "reference_workflow", "a workflow registered elsewhere"),
    n("flytekit", "reference_launch_plan", "a launch plan registered elsewhere"),
    n("flytekit", "approve", "a workflow node that waits for a manual approval"),
    n("flytekit", "wait_for_input", "a workflow node that waits for an external input"),
    n("flytekit", "sleep", "a workflow node that waits for a duration"),
    n("flytekit", "Labels", "Kubernetes labels for executions"),
    n("flytekit", "Annotations", "Kubernetes annotations for executions"),
    n("flytekit", "Documentation", "long and short descriptions of an entity"),
    n("flytekit", "Description", "a description of an entity"),
    n("flytekit", "Environment", "shared task settings"),
    n("flytekit", "HashMethod", "a custom hash for caching a value"),
    n("flytekit", "BatchSize", "the batch size of a list input of a map task"),
    n("flytekit", "Checkpoint", "intra-task checkpoints"),
    n("flytekit", "Artifact", "a named, versioned output"),
    n("flytekit", "SQLTask", "a task that runs a SQL query"),
    n("flytekit", "PythonFunctionTask", "the task class behind `@task`"),
    n("flytekit", "PythonInstanceTask", "base class of tasks configured by instance"),
    n("flytekit", "FlyteRemote", "a client for a Flyte cluster"),
    n("flytekit", "Config", "the configuration of a FlyteRemote"),
    n("flytekit", "Options", "execution options (labels, roles, raw output location)"),
    n("flytekit", "SecurityContext", "the identity an execution runs as"),
    n("flytekit", "StructuredDatasetType", "the Flyte type of a StructuredDataset"),
    n("flytekit", "StructuredDatasetFormat", "formats of StructuredDataset (parquet, csv, ...)"),
    n("flytekit", "WorkflowExecutionPhase", "phases of a workflow execution"),
    n("flytekit", "ConcurrencyPolicy", "how many executions of a launch plan may run at once"),
    n("flytekit.core.workflow", "ImperativeWorkflow", "a workflow built by calls (`add_entity`, `add_workflow_input`)"),
    n("flytekit.types.file", "FlyteFile", "a file that travels between tasks through blob storage"),
    n("flytekit.types.file", "CSVFile", "FlyteFile of format csv"),
    n("flytekit.types.file", "JSONLFile", "FlyteFile of format jsonl"),
    n("flytekit.types.file", "PNGImageFile", "FlyteFile of format png"),
    n("flytekit.types.file", "JPEGImageFile", "FlyteFile of format jpeg"),
    n("flytekit.types.file", "SVGImageFile", "FlyteFile of format svg"),
    n("flytekit.types.file", "PDFFile", "FlyteFile of format pdf"),
    n("flytekit.types.file", "HTMLPage", "FlyteFile of format html"),
    n("flytekit.types.file", "HDF5EncodedFile", "FlyteFile of format hdf5"),
    n("flytekit.types.file", "JoblibSerializedFile", "FlyteFile of format joblib"),
    n("flytekit.types.file", "ONNXFile", "FlyteFile of format onnx"),
    n("flytekit.types.file", "PythonNotebook", "FlyteFile of format ipynb"),
    n("flytekit.types.file", "PythonPickledFile", "FlyteFile of format python_pickle"),
    n("flytekit.types.file", "TFRecordFile", "FlyteFile of format tfrecord"),
    n("flytekit.types.directory", "FlyteDirectory", "a directory that travels through blob storage"),
    n("flytekit.types.directory", "TensorboardLogs", "FlyteDirectory of format tensorboard"),
    n("flytekit.types.directory", "TFRecordsDirectory", "FlyteDirectory of format tfrecord"),
    n("flytekit.types.structured", "StructuredDataset", "a dataframe-like value stored as Parquet"),
    n("flytekit.types.pickle", "FlytePickle", "a value passed as a pickle"),
    n("flytekit.types.iterator", "FlyteIterator", "an iterator over a list of files"),
    n("flytekit.types.iterator", "JSON", "JSON values for iterators"),
    n("flytekit.extras.accelerators", "A100", "NVIDIA A100 GPU"),
    n("flytekit.extras.accelerators", "A100_80GB", "NVIDIA A100 80GB GPU"),
    n("flytekit.extras.accelerators", "A10G", "NVIDIA A10G GPU"),
    n("flytekit.extras.accelerators", "H100", "NVIDIA H100 GPU"),
    n("flytekit.extras.accelerators", "H200", "NVIDIA H200 GPU"),
    n("flytekit.extras.accelerators", "L4", "NVIDIA L4 GPU"),
    n("flytekit.extras.accelerators", "L40S", "NVIDIA L40S GPU"),
    n("flytekit.extras.accelerators", "T4", "NVIDIA T4 GPU"),
    n("flytekit.extras.accelerators", "V100", "NVIDIA V100 GPU"),
    n("flytekit.extras.accelerators", "GPUAccelerator", "any GPU by device name"),
    n("flytekit.extras.tasks.shell", "ShellTask", "a task that runs a shell script"),
    n("flytekit.extras.tasks.shell", "OutputLocation", "an output file of a ShellTask"),
];

/// Submodules of flytekit that Flyte code imports from.
pub const MODULES: &[&str] = &[
    "flytekit",
    "flytekit.types",
    "flytekit.types.file",
    "flytekit.types.directory",
    "flytekit.types.structured",
    "flytekit.types.pickle",
    "flytekit.types.iterator",
    "flytekit.extras",
    "flytekit.extras.accelerators",
    "flytekit.extras.tasks",
    "flytekit.extras.tasks.shell",
    "flytekit.core",
    "flytekit.core.workflow",
    "flytekit.remote",
    "flytekit.exceptions",
];

/// The decorators that completion offers with an automatic `from flytekit import ...`.
pub const DECORATORS: &[&str] = &["task", "workflow", "dynamic", "eager"];

/// Names importable from `module`.
pub fn names_in(module: &str) -> impl Iterator<Item = &'static ApiName> + '_ {
    NAMES.iter().filter(move |a| a.module == module)
}
