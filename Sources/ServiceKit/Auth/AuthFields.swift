// The bodies of register, login and profile update, validated: pure functions of the JSON
// object (no database, no request), so Fuzz/Edges runs them on arbitrary bodies.
import HTTP1
import Web

/// POST /auth/register: username (3-30 word characters), email (lower-cased, loose shape),
/// password (8-128 characters) and the optional profile fields.
struct RegistrationFields: Sendable {
    var username: String
    var email: String
    var password: String
    var profile: ProfileFields

    init(_ body: JSONBody) throws(HTTPError) {
        username = try body.string("username", maxLength: 30)
        email = try body.string("email", maxLength: 254).lowercased()
        password = try body.optionalString("password", maxLength: 128) ?? ""
        try Validation.username(username)
        try Validation.email(email)
        guard password.count >= 8 else { throw HTTPError.badRequest("password must be 8-128 characters") }
        profile = try ProfileFields(body)
    }
}

/// POST /auth/login: email (lower-cased) and password (at most 128 characters).
struct LoginFields: Sendable {
    var email: String
    var password: String

    init(_ body: JSONBody) throws(HTTPError) {
        email = try body.string("email", maxLength: 254).lowercased()
        password = try body.string("password", maxLength: 128)
    }
}

/// The optional profile fields of register and update, validated.
struct ProfileFields: Sendable {
    var age: Int64?
    var gender: String?
    var bio: String?
    var favoriteStyle: String?
    /// The JSON names the body carried, in a fixed order (for `changed`).
    var present: [String] = []

    init(_ body: JSONBody) throws(HTTPError) {
        age = try body.optionalInt("age")
        if let age, !(13...120).contains(age) { throw HTTPError.badRequest("age must be 13-120") }
        gender = try body.optionalString("gender", maxLength: 32)
        bio = try body.optionalString("bio", maxLength: 500)
        favoriteStyle = try body.optionalString("favoriteStyle", maxLength: 100)
        for name in ["age", "gender", "bio", "favoriteStyle"] where body.object[name] != nil { present.append(name) }
    }
}

enum Validation {
    /// 3-30 of [A-Za-z0-9_], so a username is always a valid @mention.
    static func username(_ name: String) throws(HTTPError) {
        guard (3...30).contains(name.utf8.count), name.utf8.allSatisfy(Mentions.isWord) else {
            throw HTTPError.badRequest("username must be 3-30 letters, digits or underscores")
        }
    }

    /// A deliberately loose check (one '@', a dot in the domain, no spaces): the mailbox
    /// itself is proven only by a confirmation mail, which this service does not send.
    static func email(_ email: String) throws(HTTPError) {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !parts[1].hasSuffix("."), !email.contains(" ") else {
            throw HTTPError.badRequest("email is not a valid address")
        }
    }
}
