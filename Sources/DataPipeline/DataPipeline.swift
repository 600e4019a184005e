// The DataPipeline layer (see Package.swift for where it sits).
