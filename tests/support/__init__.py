"""What the test suites and the benchmarks share: fake AWS credentials, Herald on moto in this
process driven like Lambda, and `herald dev` in a subprocess. No pytest here: bench/ imports it too."""
