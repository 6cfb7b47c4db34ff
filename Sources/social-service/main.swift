// social-service (port 5003, database social_db): see Sources/ServiceKit/Social.
import Daemon
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

enum SocialDescription: DaemonDescription {
    static let name = "social-service"
    static let abstract = "Instaverse's social service: follows, likes and comments."
    static let discussion = ServiceMain.discussion(name: "social", defaultPort: 5003, defaultDatabase: "social_db")
}

DaemonCommandLine.parseOrExit(SocialDescription.self)
exit(ServiceMain.run(name: "social", defaultPort: 5003, defaultDatabase: "social_db") {
    SocialService(options: try SocialOptions.load())
})
