// The foundation: each C wrapper links, and each private server answers through the C
// library the product uses to reach it.
import Testing
import TestSupport
import CLibUV
import CRabbitMQ
import CPQ
import CSQLite
import COpenSSL
import CZlib

@Suite struct CLibraries {
    @Test func versionsAreTheDebianOnes() {
        #expect(uv_version() >= 0x012C00)             // libuv 1.44+
        #expect(sqlite3_libversion_number() >= 3_040_000)
        #expect(PQlibVersion() >= 150000)
        #expect(OpenSSL_version_num() >= 0x3000_0000)
        #expect(String(cString: zlibVersion()).hasPrefix("1."))
        #expect(String(cString: amqp_version()).hasPrefix("0."))
    }
}

@Suite struct PrivateServers {
    @Test(arguments: ["users_db", "stories_db", "social_db", "notify_db"])
    func postgresAnswers(database: String) throws {
        let url = try Servers.postgresURL(database: database)
        let conn = PQconnectdb(url)
        defer { PQfinish(conn) }
        try #require(PQstatus(conn) == CONNECTION_OK, "\(String(cString: PQerrorMessage(conn)))")
        let res = PQexec(conn, "SELECT current_database()")
        defer { PQclear(res) }
        #expect(PQresultStatus(res) == PGRES_TUPLES_OK)
        #expect(String(cString: PQgetvalue(res, 0, 0)) == database)
    }

    @Test func rabbitmqAcceptsALogin() throws {
        let port = try Servers.amqpPort()
        guard let conn = amqp_new_connection() else { Issue.record("amqp_new_connection"); return }
        defer { amqp_destroy_connection(conn) }
        let socket = amqp_tcp_socket_new(conn)
        try #require(socket != nil)
        #expect(amqp_socket_open(socket, "127.0.0.1", Int32(port)) == AMQP_STATUS_OK.rawValue)
        let reply = instaverse_amqp_login_plain(conn, "/", 0, 131072, 0, "guest", "guest")
        #expect(reply.reply_type == AMQP_RESPONSE_NORMAL)
        _ = amqp_connection_close(conn, AMQP_REPLY_SUCCESS)
    }
}
