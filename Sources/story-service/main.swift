// story-service (port 5002, database stories_db): see Sources/ServiceKit/Story.
import Daemon
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

enum StoryDescription: DaemonDescription {
    static let name = "story-service"
    static let abstract = "Instaverse's story service: stories and their images."
    static let discussion = ServiceMain.discussion(name: "story", defaultPort: 5002, defaultDatabase: "stories_db")
}

DaemonCommandLine.parseOrExit(StoryDescription.self)
exit(ServiceMain.run(name: "story", defaultPort: 5002, defaultDatabase: "stories_db") {
    StoryService(limits: try WriteLimits.load())
})
