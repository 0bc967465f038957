package record

import "testing"

// An identity pool id may hold every digit and letter, both cases, the
// ends of each range included: "0", "9", "a", "z", "A", "Z".
func TestIdentityPoolIDRangeEnds(t *testing.T) {
	for _, id := range []string{
		"us-east-1:00000000-0000-4000-8000-000000000000",
		"us-east-1:99999999-9999-4999-8999-999999999999",
		"us-east-1:aaaaaaaa-zzzz-4aaa-8zzz-azazazazazaz",
		"us-east-1:AAAAAAAA-ZZZZ-4AAA-8ZZZ-AZAZAZAZAZAZ",
	} {
		if !isIdentityPoolID(id) {
			t.Errorf("%s refused", id)
		}
	}
	for _, id := range []string{
		"us-east-1:0000000/-0000-4000-8000-000000000000", // '/' sorts before '0'
		"us-east-1:0000000;-0000-4000-8000-000000000000", // ';' after '9'
		"us-east-1:0000000`-0000-4000-8000-000000000000", // '`' before 'a'
		"us-east-1:0000000{-0000-4000-8000-000000000000", // '{' after 'z'
		"us-east-1:0000000@-0000-4000-8000-000000000000", // '@' before 'A'
		"us-east-1:0000000[-0000-4000-8000-000000000000", // '[' after 'Z'
	} {
		if isIdentityPoolID(id) {
			t.Errorf("%s accepted", id)
		}
	}
}
