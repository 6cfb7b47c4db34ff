// social-service (port 5003, database social_db): see Sources/ServiceKit/Social.
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

exit(ServiceMain.run(name: "social", defaultPort: 5003, defaultDatabase: "social_db") {
    SocialService(options: try SocialOptions.load())
})
