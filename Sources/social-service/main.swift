// social-service (port 5003, database social_db): see Sources/ServiceKit/Social.
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

enum SocialDescription: ServiceDescription {
    static let service = "social"
    static let defaultPort = 5003
    static let defaultDatabase = "social_db"
    static let abstract = "Instaverse's social service: follows, likes and comments."
}

exit(ServiceMain.main(SocialDescription.self) { SocialService(options: try SocialOptions.load()) })
