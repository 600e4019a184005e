// The VideoIO layer (see Package.swift for where it sits).
