import CHDF5
import Foundation
import XCTest
@testable import HDF5

/// HDF5Isolation: how the child's end becomes the open's answer, and the walk the child does.
/// (The real executables with real crashing and hanging files: TrainingTests' DamagedHDF5Tests.)
final class IsolationTests: HDF5TestCase {
    override func tearDownWithError() throws {
        HDF5Isolation.disable()
        try super.tearDownWithError()
    }

    /// A good file with a group, datasets of several types and attributes.
    func makeFile() throws -> String {
        let p = path("good.h5")
        let f = try H5File.create(p)
        try f.setAttribute("format", "test")
        try f.setAttribute("version", Int64(3))
        try f.write("model/w", [Float](repeating: 1.5, count: 12), shape: [3, 4])
        try f.write("state/steps", [Int64(7)], shape: [1])
        try f.setAttribute("note", "hello", on: "state")
        try f.close()
        return p
    }

    /// A stand-in for the child: a script that does `body` whatever it is asked.
    func child(_ body: String) throws -> String {
        let p = path("child-\(UUID().uuidString.prefix(6)).sh")
        try "#!/bin/sh\n\(body)\n".write(toFile: p, atomically: true, encoding: .utf8)
        chmod(p, 0o755)
        return p
    }

    func testAChildThatExitsZeroLetsTheFileOpen() throws {
        let p = try makeFile()
        HDF5Isolation.enable(executable: try child("exit 0"), timeout: 10)
        let f = try H5File.open(p)
        XCTAssertEqual(try f.stringAttribute("format"), "test")
        try f.close()
        XCTAssertNotNil(HDF5Isolation.lastCheckSeconds)
    }

    func testAChildThatCrashesIsOneDamagedError() throws {
        let p = try makeFile()
        HDF5Isolation.enable(executable: try child("kill -SEGV $$"), timeout: 10)
        let e = expectError(.damaged) { _ = try H5File.open(p) }
        XCTAssertEqual(e?.description, "\(p): damaged HDF5 file: the HDF5 library crashed reading it (killed by signal 11 (SIGSEGV), in a separate process)")
        XCTAssertEqual(H5File.openObjects, 0)
    }

    /// AddressSanitizer (the fuzz builds) reports and exits 1 rather than dying by a signal.
    func testAChildThatExitsNonZeroIsADamagedError() throws {
        let p = try makeFile()
        HDF5Isolation.enable(executable: try child("exit 1"), timeout: 10)
        let e = expectError(.damaged) { _ = try H5File.open(p) }
        XCTAssertTrue(e?.message.contains("crashed reading it (exited with status 1") ?? false, "\(String(describing: e))")
    }

    /// The reader threw in the child (status 3, its message on stdout): that message is the
    /// answer, and the file is not opened in this process.
    func testAReaderThatRefusedTheFileInTheChildIsItsOwnMessage() throws {
        let p = try makeFile()
        HDF5Isolation.enable(executable: try child("echo \"$4: not what I read\"; exit 3"), timeout: 10)
        let e = expectError(.refused) { _ = try H5File.open(p, checkedAs: "some-reader") }
        XCTAssertEqual(e?.message, "\(p): not what I read")
        XCTAssertEqual(H5File.openObjects, 0)
        // status 3 without a message is no answer: a crash
        HDF5Isolation.enable(executable: try child("exit 3"), timeout: 10)
        expectError(.damaged) { _ = try H5File.open(p, checkedAs: "some-reader") }
    }

    func testAChildThatHangsIsKilledAtItsDeadline() throws {
        let p = try makeFile()
        HDF5Isolation.enable(executable: try child("exec sleep 30"), timeout: 0.5)
        let start = Date()
        let e = expectError(.damaged) { _ = try H5File.open(p) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(e?.message, "damaged HDF5 file: the HDF5 library hung reading it (no answer in 0.5 s, in a separate process)")
    }

    /// The child is asked for the file by path, with this process as its parent.
    func testTheChildIsGivenTheParentAndThePath() throws {
        let p = try makeFile()
        let args = path("args")
        HDF5Isolation.enable(executable: try child("echo \"$@\" > \(args)"), timeout: 10)
        _ = try H5File.open(p)
        XCTAssertEqual(try String(contentsOfFile: args, encoding: .utf8), "\(HDF5Isolation.childCommand) \(getpid()) walk \(p)\n")
    }

    func testTheDefaultDeadlineGrowsWithTheFile() throws {
        let p = try makeFile()
        let bytes = try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int
        XCTAssertEqual(HDF5Isolation.deadline(forFileAt: p, timeout: nil), 60 + Double(bytes) / 10e6, accuracy: 1e-9)
        XCTAssertEqual(HDF5Isolation.deadline(forFileAt: p, timeout: 3), 3)
    }

    /// The walk ends on a file whose group holds a link to itself (each object is walked once),
    /// and leaves nothing open.
    func testTheWalkEndsOnALinkCycle() throws {
        let p = try makeFile()
        let fid = H5Fopen(p, vmae_H5F_ACC_RDWR(), vmae_H5P_DEFAULT())
        XCTAssertGreaterThanOrEqual(fid, 0)
        XCTAssertGreaterThanOrEqual(H5Lcreate_hard(fid, "/model", fid, "/model/again", vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT()), 0)
        XCTAssertGreaterThanOrEqual(H5Lcreate_hard(fid, "/", fid, "/state/root", vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT()), 0)
        H5Fclose(fid)
        let start = Date()
        HDF5Isolation.walk(p)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(H5File.openObjects, 0)
        let f = try H5File.open(p)
        XCTAssertEqual(try f.members(of: "model/again/again"), ["again", "w"])
    }
}
