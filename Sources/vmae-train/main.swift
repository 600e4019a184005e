print("vmae-train")
