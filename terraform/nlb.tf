resource "exoscale_nlb" "app" {
  zone        = var.zone
  name        = "${var.name_prefix}-nlb"
  description = "Public entry point of the slow web app"
}

resource "exoscale_nlb_service" "http" {
  zone             = var.zone
  name             = "http"
  description      = "Port 80 to the pool's app on 8080"
  nlb_id           = exoscale_nlb.app.id
  instance_pool_id = exoscale_instance_pool.app.id
  protocol         = "tcp"
  port             = 80
  target_port      = 8080
  strategy         = "round-robin"

  healthcheck {
    mode     = "http"
    port     = 8080
    uri      = "/health"
    interval = 10
    timeout  = 3
    retries  = 1
  }
}
