"""Site configuration: schema, YAML loading with line-precise errors, sample sites, resources."""
