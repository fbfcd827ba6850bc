"""Templates and static files of the web app (a package so nothing on sys.path can shadow it)."""
