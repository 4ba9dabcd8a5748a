provider "exoscale" {
  key    = var.exoscale_key
  secret = var.exoscale_secret
}
