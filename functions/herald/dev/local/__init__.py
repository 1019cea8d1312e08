"""The embedded local runtime (`herald dev`): moto plays AWS, the handlers run unchanged."""
