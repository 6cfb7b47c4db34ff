// auth-service (port 5001, database users_db): see Sources/ServiceKit/Auth.
import Daemon
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

enum AuthDescription: DaemonDescription {
    static let name = "auth-service"
    static let abstract = "Instaverse's auth service: accounts, logins and the tokens every other service checks."
    static let discussion = ServiceMain.discussion(name: "auth", defaultPort: 5001, defaultDatabase: "users_db")
}

DaemonCommandLine.parseOrExit(AuthDescription.self)
exit(ServiceMain.run(AuthService(), name: "auth", defaultPort: 5001, defaultDatabase: "users_db"))
