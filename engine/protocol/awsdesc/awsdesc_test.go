package awsdesc

import "testing"

func TestHost(t *testing.T) {
	for _, tc := range []struct{ url, host, service, region string }{
		{"https://healthlake.us-east-1.amazonaws.com", "healthlake.us-east-1.amazonaws.com", "healthlake", "us-east-1"},
		{"https://elasticfilesystem.amazonaws.com/", "elasticfilesystem.amazonaws.com", "elasticfilesystem", ""},
		{"https://reports.s3.eu-west-1.amazonaws.com", "reports.s3.eu-west-1.amazonaws.com", "s3", "eu-west-1"},
		{"https://s3.cn-north-1.amazonaws.com.cn", "s3.cn-north-1.amazonaws.com.cn", "s3", "cn-north-1"},
		{"https://runtime-medical-imaging.us-gov-west-1.amazonaws.com", "runtime-medical-imaging.us-gov-west-1.amazonaws.com", "runtime-medical-imaging", "us-gov-west-1"},
	} {
		host, service, region, ok := Host(tc.url)
		if !ok || host != tc.host || service != tc.service || region != tc.region {
			t.Errorf("Host(%s) = %s %s %s %v", tc.url, host, service, region, ok)
		}
	}
	for _, u := range []string{"https://example.com", "https://amazonaws.com", "https://evil-amazonaws.com", "://"} {
		if _, _, _, ok := Host(u); ok {
			t.Errorf("%s is not an AWS host", u)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"cn-northwest-1": "amazonaws.com.cn", "us-gov-east-1": "amazonaws.com", "eu-central-2": "amazonaws.com"} {
		if _, suffix := Partition(region); suffix != want {
			t.Errorf("%s: %s", region, suffix)
		}
	}
}
