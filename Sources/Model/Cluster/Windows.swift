extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// MemoryDB's weekly maintenance window and daily snapshot window, validated.
public enum Windows {
    static let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `ddd:hh24:mi-ddd:hh24:mi` (UTC), at least 60 minutes, e.g. `sun:23:00-mon:01:30`.
    public static func validateMaintenance(_ text: String, field: String = "maintenanceWindow") throws(MemoryDBError) -> String {
        let value = text.lowercased()
        let halves = value.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2, let start = weekMinute(halves[0]), let end = weekMinute(halves[1]) else {
            throw .invalid("\(field) must look like ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:01:30; got '\(text)'.")
        }
        let length = (end - start + 7 * 1440) % (7 * 1440)
        guard length >= 60 else {
            throw .invalid("\(field) must be at least 60 minutes long; '\(text)' is \(length).")
        }
        return value
    }

    /// `hh24:mi-hh24:mi` (UTC), at least 60 minutes, may wrap midnight, e.g. `05:00-06:00`.
    public static func validateSnapshot(_ text: String, field: String = "snapshotWindow") throws(MemoryDBError) -> String {
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2, let start = dayMinute(halves[0]), let end = dayMinute(halves[1]) else {
            throw .invalid("\(field) must look like hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00; got '\(text)'.")
        }
        let length = (end - start + 1440) % 1440
        guard length >= 60 else {
            throw .invalid("\(field) must be at least 60 minutes long; '\(text)' is \(length).")
        }
        return text
    }

    /// Whether a weekly and a daily window overlap; MemoryDB keeps them apart.
    public static func overlap(maintenance: String, snapshot: String) -> Bool {
        let weekly = maintenance.split(separator: "-")
        let daily = snapshot.split(separator: "-")
        guard weekly.count == 2, daily.count == 2, let mStart = weekMinute(weekly[0]), let mEnd = weekMinute(weekly[1]),
            let sStart = dayMinute(daily[0]), let sEnd = dayMinute(daily[1])
        else { return false }
        let week = 7 * 1440
        let mLength = (mEnd - mStart + week) % week
        let sLength = (sEnd - sStart + 1440) % 1440
        for day in 0..<7 {
            let s = day * 1440 + sStart
            // Two intervals on a circle overlap when either start lies inside the other.
            if (s - mStart + week) % week < mLength || (mStart - s + week) % week < sLength { return true }
        }
        return false
    }

    /// Whether `minuteOfDay` (UTC, 0–1439) falls inside a valid daily window (which may wrap).
    public static func contains(snapshotWindow: String, minuteOfDay: Int) -> Bool {
        let halves = snapshotWindow.split(separator: "-")
        guard halves.count == 2, let start = dayMinute(halves[0]), let end = dayMinute(halves[1]) else { return false }
        let length = (end - start + 1440) % 1440
        return (minuteOfDay - start + 1440) % 1440 < length
    }

    /// The minute of the week (0 = Sunday 00:00 UTC) of a time in milliseconds since 1970
    /// (a Thursday).
    public static func weekMinute(ofMilliseconds time: Int64) -> Int {
        let minutes = Int(time / 60_000)
        return ((minutes / 1440 + 4) % 7) * 1440 + minutes % 1440
    }

    /// Whether `weekMinute` falls inside a valid weekly window (which may wrap the week).
    public static func contains(maintenanceWindow: String, weekMinute minute: Int) -> Bool {
        let halves = maintenanceWindow.split(separator: "-")
        guard halves.count == 2, let start = weekMinute(halves[0]), let end = weekMinute(halves[1]) else { return false }
        let week = 7 * 1440
        return (minute - start + week) % week < (end - start + week) % week
    }

    /// When the weekly window next opens at or after `time` (milliseconds since 1970); nil for
    /// a window that does not parse.
    public static func nextStart(ofMaintenanceWindow window: String, after time: Int64) -> Int64? {
        guard let text = window.split(separator: "-").first, let start = weekMinute(text) else { return nil }
        let week = 7 * 1440
        let now = weekMinute(ofMilliseconds: time)
        let wait = (start - now + week) % week
        return (time / 60_000 + Int64(wait)) * 60_000
    }

    static func dayMinute(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, (parts[0] + parts[1]).allSatisfy(\.isASCIIDigit),
            let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    static func weekMinute(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let day = days.firstIndex(of: String(parts[0])), let minute = dayMinute(parts[1]) else { return nil }
        return day * 1440 + minute
    }
}
