"""HTTP: the Litestar app, its routes and middleware, and how `timeline serve` runs it."""
