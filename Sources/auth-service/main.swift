// auth-service (port 5001, database users_db): see Sources/ServiceKit/Auth.
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

exit(ServiceMain.run(AuthService(), name: "auth", defaultPort: 5001, defaultDatabase: "users_db"))
