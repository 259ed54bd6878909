"""Site operations (docs/rules.md §18): the shared cache, admin-composed blocks, template overrides, reports."""
