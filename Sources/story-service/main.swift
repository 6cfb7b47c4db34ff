// story-service (port 5002, database stories_db): see Sources/ServiceKit/Story.
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

enum StoryDescription: ServiceDescription {
    static let service = "story"
    static let defaultPort = 5002
    static let defaultDatabase = "stories_db"
    static let abstract = "Instaverse's story service: stories and their images."
}

exit(ServiceMain.main(StoryDescription.self) { StoryService(limits: try WriteLimits.load()) })
