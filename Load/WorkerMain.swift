// A worker process: runs a WorkerEngine on its slice of users and talks to the parent over
// its standard streams. Out (stdout): one JSON object per line, {"progress":{...}} every
// 250 ms and {"tally":{...}} once at the end. In (stdin): the line "stop", or EOF (the parent
// died), stops the engine. Diagnostics go to stderr.
import Foundation
import IOCore

struct WorkerLine: Codable {
    var progress: WorkerProgress?
    var tally: Tally?
}

enum WorkerMain {
    static func run(_ args: LoadArguments, slice: UserSlice) -> Int32 {
        let loop: EventLoop
        do { loop = try EventLoop() } catch { FileHandle.standardError.write(Data("worker: \(error)\n".utf8)); return 1 }
        let encoder = JSONEncoder()
        let write: (WorkerLine) -> Void = { line in
            guard var data = try? encoder.encode(line) else { return }
            data.append(10)
            FileHandle.standardOutput.write(data)
        }
        let engine: WorkerEngine
        do {
            engine = try WorkerEngine(loop: loop, args: args, slice: slice,
                                      onProgress: { write(WorkerLine(progress: $0)) },
                                      onFinish: { tally in write(WorkerLine(tally: tally)); loop.stop() })
        } catch {
            FileHandle.standardError.write(Data("worker: \(error)\n".utf8))
            return 2
        }
        let sender = loop.sender
        let bound = LoopBound(engine, loop: loop)
        let reader = Thread {
            // Blocks on stdin until "stop" or EOF, then asks the loop to stop the engine.
            while let line = readLine(strippingNewline: true) {
                if line == "stop" { break }
            }
            _ = sender.execute { loop in bound.value(on: loop).stop() }
        }
        reader.start()
        engine.start()
        loop.run()
        return 0
    }
}
