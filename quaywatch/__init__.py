"""quaywatch: camera events joined with container unload and inspection windows."""
