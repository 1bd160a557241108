"""The `rnu` command line and the worker's task registration: the composition root.

Only this package (and the API's app factory) wires the layers together; `usecases`,
`rnu`, `loaders` and `privacy` never import it.
"""
