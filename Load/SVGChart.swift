// A self-contained SVG of a report: left, the latency percentile curve (x: percentile on the
// usual 1/(1-p) log scale, y: latency, linear); right, connections open over time. Plain
// polylines and text, no script, no external fonts: it opens in any browser.

enum SVGChart {
    static func render(_ r: LoadReport) -> String {
        let w = 960.0, h = 400.0, pad = 50.0, pw = (w - 3 * pad) / 2, ph = h - 2 * pad
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        // Latency curve: handshake, and the message latency when there is one.
        let curves: [(String, [[Double]], String)] = [("handshake", r.handshakeCurve, "#1f77b4"), ("message", r.messageCurve, "#d62728")]
            .filter { !$0.1.isEmpty }
        let maxY = max(1, curves.flatMap { $0.1.map { $0[1] } }.max() ?? 1)
        svg += frame(x: pad, y: pad, w: pw, h: ph, title: "latency by percentile (\(r.scenario))", yLabel: "\(fmt(maxY / 1000)) ms")
        for (i, c) in curves.enumerated() {
            let pts = c.1.map { p -> String in
                let x = pad + min(5, log10x(1 / max(1e-5, 1 - p[0] / 100))) / 5 * pw
                let y = pad + ph - p[1] / maxY * ph
                return "\(fmt(x)),\(fmt(y))"
            }
            svg += "<polyline fill=\"none\" stroke=\"\(c.2)\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
            svg += "<text x=\"\(fmt(pad + 8))\" y=\"\(fmt(pad + 14 + Double(i) * 14))\" fill=\"\(c.2)\">\(c.0)</text>\n"
        }
        for (k, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].enumerated() {
            svg += "<text x=\"\(fmt(pad + Double(k) / 5 * pw))\" y=\"\(fmt(pad + ph + 14))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        // Connections over time.
        let x0 = 2 * pad + pw
        let maxT = max(1, r.timeline.last?.t ?? 1)
        let maxOpen = Double(max(1, r.timeline.map(\.open).max() ?? 1))
        svg += frame(x: x0, y: pad, w: pw, h: ph, title: "connections open over time", yLabel: "\(Int(maxOpen))")
        let pts = r.timeline.map { "\(fmt(x0 + $0.t / maxT * pw)),\(fmt(pad + ph - Double($0.open) / maxOpen * ph))" }
        svg += "<polyline fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
        svg += "<text x=\"\(fmt(x0 + pw))\" y=\"\(fmt(pad + ph + 14))\" text-anchor=\"end\">\(fmt(maxT)) s</text>\n"
        svg += "<text x=\"\(fmt(pad))\" y=\"\(fmt(h - 8))\">\(escape(summary(r)))</text>\n"
        return svg + "</svg>\n"
    }

    private static func frame(x: Double, y: Double, w: Double, h: Double, title: String, yLabel: String) -> String {
        "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"none\" stroke=\"#888\"/>\n"
            + "<text x=\"\(fmt(x))\" y=\"\(fmt(y - 8))\" font-size=\"13\">\(escape(title))</text>\n"
            + "<text x=\"\(fmt(x - 4))\" y=\"\(fmt(y + 10))\" text-anchor=\"end\">\(escape(yLabel))</text>\n"
    }

    private static func summary(_ r: LoadReport) -> String {
        "\(r.opened) connections, \(fmt(r.connectRate)) /s, handshake p99 \(fmt(Double(r.handshake.p99) / 1000)) ms"
            + (r.messageLatency.count > 0 ? ", message p99 \(fmt(Double(r.messageLatency.p99) / 1000)) ms" : "")
    }

    private static func log10x(_ v: Double) -> Double {
        var n = 0.0, x = v
        while x >= 10 { x /= 10; n += 1 }
        return n + (x - 1) / 9
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "&": o += "&amp;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}
