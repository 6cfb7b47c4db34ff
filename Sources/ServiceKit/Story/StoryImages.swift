// POST /stories/:id/image (raw body, the author only) and GET /stories/:id/image.
// The body is at most 5 MiB (413 beyond, from the server before the handler runs); its type
// is decided by magic bytes, and a Content-Type that disagrees is 415.
import HTTP1
import PG
import Web

enum StoryImages {
    static func install(on service: Service, images: ImageStore) {
        service.route(.POST, "/stories/:id/image", bodyLimit: ImageStore.maxBytes) { request, responder in
            let caller = try service.auth.caller(request)
            let id = try request.id("id")
            let claimed = request.headers["Content-Type"]?.split(separator: ";").first.map {
                String($0).trimmingCharacters(in: " ").lowercased()
            }
            guard let claimed, ["image/jpeg", "image/png", "image/webp"].contains(claimed) else {
                throw HTTPError(.unsupportedMediaType, "Content-Type must be image/jpeg, image/png or image/webp")
            }
            guard let actual = ImageStore.sniff(request.body) else {
                throw HTTPError(.unsupportedMediaType, "the body is not a JPEG, PNG or WebP image")
            }
            guard actual == claimed else {
                throw HTTPError(.unsupportedMediaType, "Content-Type says \(claimed) but the body is \(actual)")
            }
            let bytes = request.body
            service.database.respond(responder) { conn in
                try UserDirectory.requireActive(conn, caller.userId)
                // The new file gets a name no row holds yet; the row names it only if the
                // transaction commits. Then the previous file goes; on any failure, the new one.
                let file = images.newFileName(postId: id)
                let previous: String?
                do {
                    previous = try conn.transaction { tx -> String? in
                        let rows = try tx.query("SELECT user_id, \(StorySchema.imageFileColumn) FROM posts WHERE id = $1 FOR UPDATE", [.int(id)])
                        guard let row = rows.first else { throw HTTPError.notFound("story not found") }
                        guard try row.int64(0) == caller.userId else { throw HTTPError.forbidden("only the author can set the image") }
                        try images.write(file: file, bytes: bytes)
                        try tx.execute("UPDATE posts SET image_type = $2, image_file = $3, updated_at = now() WHERE id = $1",
                                       [.int(id), .text(actual), .text(file)])
                        return try row.get(1, as: String?.self)
                    }
                } catch {
                    images.remove(file: file)
                    throw error
                }
                if let previous, previous != file { images.remove(file: previous) }
                return .json(.created) { w in
                    w.beginObject()
                    w.member("id", Int(id))
                    w.member("image", "/stories/\(id)/image")
                    w.member("contentType", actual)
                    w.member("bytes", bytes.count)
                    w.endObject()
                }
            }
        }
        service.route(.GET, "/stories/:id/image") { request, responder in
            let id = try request.id("id")
            service.database.respond(responder) { conn in
                let rows = try conn.query("SELECT image_type, \(StorySchema.imageFileColumn) FROM posts WHERE id = $1", [.int(id)])
                guard let row = rows.first, let type = try row.get(0, as: String?.self),
                      let file = try row.get(1, as: String?.self), let bytes = images.read(file: file) else {
                    throw HTTPError.notFound("image not found")
                }
                return Reply(.ok, headers: ["Content-Type": type, "Cache-Control": "public, max-age=300",
                                            "X-Content-Type-Options": "nosniff"], body: bytes)
            }
        }
    }
}
