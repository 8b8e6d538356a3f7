package verify

// AWSKeysArmored returns a copy of AWS's embedded public signing keys, as the armored
// text they were published in (several key blocks), for importing into other tools'
// keyrings such as the rpm database.
func AWSKeysArmored() []byte { return append([]byte(nil), awsKeysArmored...) }
