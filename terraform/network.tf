# Pool members: the app is reachable through the NLB (which keeps the client's address, so the port is open to
# the world); the node exporter only from the monitoring VM.
resource "exoscale_security_group" "pool" {
  name        = "${var.name_prefix}-pool"
  description = "Instance pool members: app on 8080, node exporter for the monitor"
}

resource "exoscale_security_group_rule" "pool_app" {
  security_group_id = exoscale_security_group.pool.id
  description       = "http-load-generator through the NLB and its health checks"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = "0.0.0.0/0"
  start_port        = 8080
  end_port          = 8080
}

resource "exoscale_security_group_rule" "pool_node_exporter" {
  security_group_id      = exoscale_security_group.pool.id
  description            = "node exporter, scraped by Prometheus on the monitoring VM only"
  type                   = "INGRESS"
  protocol               = "TCP"
  user_security_group_id = exoscale_security_group.monitor.id
  start_port             = 9100
  end_port               = 9100
}

resource "exoscale_security_group" "monitor" {
  name        = "${var.name_prefix}-monitor"
  description = "Monitoring VM: Grafana, Prometheus and the control plane for admin_cidrs"
}

locals {
  admin_ports = {
    grafana       = 3000
    prometheus    = 9090
    control_plane = 8090
  }
  admin_rules = {
    for pair in setproduct(keys(local.admin_ports), var.admin_cidrs) :
    "${pair[0]}-${pair[1]}" => { port = local.admin_ports[pair[0]], cidr = pair[1], name = pair[0] }
  }
  ssh_rules = {
    for pair in setproduct(["pool", "monitor"], var.ssh_cidrs) : "${pair[0]}-${pair[1]}" => { group = pair[0], cidr = pair[1] }
  }
  security_group_ids = {
    pool    = exoscale_security_group.pool.id
    monitor = exoscale_security_group.monitor.id
  }
}

resource "exoscale_security_group_rule" "monitor_admin" {
  for_each = local.admin_rules

  security_group_id = exoscale_security_group.monitor.id
  description       = "${each.value.name} from ${each.value.cidr}"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = each.value.cidr
  start_port        = each.value.port
  end_port          = each.value.port
}

resource "exoscale_security_group_rule" "ssh" {
  for_each = local.ssh_rules

  security_group_id = local.security_group_ids[each.value.group]
  description       = "SSH from ${each.value.cidr}"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = each.value.cidr
  start_port        = 22
  end_port          = 22
}

resource "exoscale_ssh_key" "admin" {
  count = var.ssh_public_key == "" ? 0 : 1

  name       = "${var.name_prefix}-admin"
  public_key = var.ssh_public_key
}
