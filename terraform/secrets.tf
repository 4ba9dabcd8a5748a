resource "random_password" "grafana_admin" {
  length  = 24
  special = false
}

resource "random_password" "webhook" {
  length  = 32
  special = false
}

resource "random_password" "webhook_hmac" {
  length  = 48
  special = false
}

resource "random_password" "api_token" {
  length  = 40
  special = false
}
