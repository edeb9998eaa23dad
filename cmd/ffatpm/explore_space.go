package main

// explorePoints enumerates the explored space: for each combination of
// switches, every order of the relevant initcalls that the configuration
// builds into each level.
func explorePoints() ([]point, error) {
	var out []point
	ym := []string{"y", "m"}
	for _, ffa := range ym {
		for _, crb := range ym {
			for _, crbffa := range ym {
				for _, lvl := range ffaInitcallLevels {
					for _, reg := range []struct{ register, bugOn bool }{{true, false}, {true, true}, {false, false}} {
						for _, bus := range []bool{false, true} {
							for _, late := range imaLateModes {
								p := point{FFA: ffa, CRB: crb, CRBFFA: crbffa, FFAInitcall: lvl, CRBFFARegister: reg.register,
									CRBFFABugOn: reg.bugOn, FFABusInit: bus, IMALate: late}
								dev, lat, err := relevantInitcalls(p)
								if err != nil {
									return nil, err
								}
								for _, d := range permutations(dev) {
									for _, l := range permutations(lat) {
										q := p
										q.Device, q.Late = d, l
										out = append(out, q)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return out, nil
}
