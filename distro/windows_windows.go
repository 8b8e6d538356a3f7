package distro

import "golang.org/x/sys/windows/registry"

// readWindowsVersion reads ProductName and CurrentBuildNumber of the running Windows.
func readWindowsVersion() (productName, currentBuild string, err error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE)
	if err != nil {
		return "", "", err
	}
	defer k.Close()
	if productName, _, err = k.GetStringValue("ProductName"); err != nil {
		return "", "", err
	}
	if currentBuild, _, err = k.GetStringValue("CurrentBuildNumber"); err != nil {
		return "", "", err
	}
	return productName, currentBuild, nil
}
