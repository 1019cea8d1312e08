"""Developer tools left out of the Lambda bundle: the local runtime, the `herald` CLI, the demo receiver."""
