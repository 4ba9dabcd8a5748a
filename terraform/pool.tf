data "exoscale_template" "ubuntu" {
  zone = var.zone
  name = var.template_name
}

resource "exoscale_instance_pool" "app" {
  zone               = var.zone
  name               = "${var.name_prefix}-pool"
  description        = "Slow web app (http-load-generator) and node exporter, scaled by the control plane"
  template_id        = data.exoscale_template.ubuntu.id
  instance_type      = var.pool_instance_type
  disk_size          = 10
  size               = var.pool_initial_size
  instance_prefix    = "${var.name_prefix}-app"
  security_group_ids = [exoscale_security_group.pool.id]
  key_pair           = var.ssh_public_key == "" ? null : exoscale_ssh_key.admin[0].name
  user_data          = templatefile("${path.module}/templates/pool-cloud-init.yaml.tftpl", local.pool_template_vars)

  labels = {
    project = var.name_prefix
    role    = "app"
  }

  lifecycle {
    # The control plane owns the size; a new template id must not replace the running members either.
    ignore_changes = [size, template_id]
  }
}

locals {
  pool_template_vars = {
    app_image           = "quay.io/janoszen/http-load-generator:1.0.1"
    node_exporter_image = "quay.io/prometheus/node-exporter:v1.9.1"
  }
}
