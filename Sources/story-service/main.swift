// story-service (port 5002, database stories_db): see Sources/ServiceKit/Story.
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

exit(ServiceMain.run(name: "story", defaultPort: 5002, defaultDatabase: "stories_db") {
    StoryService(limits: try WriteLimits.load())
})
