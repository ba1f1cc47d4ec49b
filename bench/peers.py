"""Optional peers: imported once, None when not installed."""
import importlib


def optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


torch = optional("torch")
jax = optional("jax")
jnp = optional("jax.numpy") if jax else None
