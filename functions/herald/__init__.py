"""Herald: event notifications for genomics data platforms.

Kept import-free on purpose: `infra/` reads `herald.names` without loading the runtime.
"""

__version__ = "0.1.0"
