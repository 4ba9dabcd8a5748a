# One load balancer (one public IP) with a service per pool on the pool's own port: an NLB holds up to 10 services,
# each bound to an instance pool of its zone. The pool "default" keeps the service of before (http, port 80).
resource "exoscale_nlb" "app" {
  zone        = var.zone
  name        = "${var.name_prefix}-nlb"
  description = "Public entry point of the slow web app"
}

resource "exoscale_nlb_service" "http" {
  for_each = local.pools

  zone             = var.zone
  name             = local.nlb_service_names[each.key]
  description      = "Port ${each.value.port} to pool ${each.key}'s app on 8080"
  nlb_id           = exoscale_nlb.app.id
  instance_pool_id = exoscale_instance_pool.app[each.key].id
  protocol         = "tcp"
  port             = each.value.port
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

moved {
  from = exoscale_nlb_service.http
  to   = exoscale_nlb_service.http["default"]
}

locals {
  # The app of each pool through the load balancer (port 80 needs no port in the URL).
  pool_urls = {
    for name, pool in local.pools :
    name => pool.port == 80 ? "http://${exoscale_nlb.app.ip_address}/" : "http://${exoscale_nlb.app.ip_address}:${pool.port}/"
  }
}
