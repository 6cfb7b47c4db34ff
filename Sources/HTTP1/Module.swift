// The HTTP1 module; its files arrive with the issue that builds it.
