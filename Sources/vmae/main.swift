print("vmae")
