// auth-service (port 5001, database users_db): see Sources/ServiceKit/Auth.
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

enum AuthDescription: ServiceDescription {
    static let service = "auth"
    static let defaultPort = 5001
    static let defaultDatabase = "users_db"
    static let abstract = "Instaverse's auth service: accounts, logins and the tokens every other service checks."
}

exit(ServiceMain.main(AuthDescription.self) { AuthService() })
