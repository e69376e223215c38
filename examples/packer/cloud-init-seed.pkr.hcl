# Builds a Debian image with Packer's QEMU builder, configured at its first boot by
# cloud-init from a NoCloud seed that ctxgen made. Packer writes the files below to a
# CD image labelled "cidata" (it needs xorriso, mkisofs or genisoimage on the host)
# and attaches it to the VM; cloud-init finds it by its label.
#
#   ctxgen seed examples/webserver/webserver.yaml --out seed/
#   packer init examples/packer/cloud-init-seed.pkr.hcl
#   packer build -var ssh_username=alice -var ssh_private_key_file=~/.ssh/id_ed25519 \
#     examples/packer/cloud-init-seed.pkr.hcl
#
# Packer logs in over SSH as a user of the spec (`users:` with the public key of
# ssh_private_key_file). Put no credentials in a spec used for an image: the user-data
# and everything it writes end up in the image. Use `ctxgen seed --redact` to check
# the seed in CI without them.

packer {
  required_plugins {
    qemu = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/qemu"
    }
  }
}

variable "seed_dir" {
  type        = string
  default     = "seed"
  description = "The folder `ctxgen seed SPEC --out DIR` wrote (user-data, meta-data)."
}

variable "ssh_username" {
  type        = string
  description = "A user of the spec whose ssh_keys holds the public half of ssh_private_key_file."
}

variable "ssh_private_key_file" {
  type = string
}

variable "cloud_image" {
  type    = string
  default = "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2"
}

source "qemu" "debian" {
  iso_url      = var.cloud_image
  iso_checksum = "none" # pin it: "file:<url of SHA512SUMS>" or "sha512:<hash>"
  disk_image   = true
  disk_size    = "8G"
  format       = "qcow2"
  headless     = true

  # The NoCloud seed: cd_content writes each file into the CD image, cd_label names it.
  cd_content = {
    "user-data" = file("${var.seed_dir}/user-data")
    "meta-data" = file("${var.seed_dir}/meta-data")
  }
  cd_label = "cidata"
  # Or, equivalently: cd_files = ["${var.seed_dir}/user-data", "${var.seed_dir}/meta-data"]

  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "15m"
  shutdown_command     = "sudo shutdown -P now"
}

build {
  sources = ["source.qemu.debian"]

  provisioner "shell" {
    inline = [
      # Wait until cloud-init has applied the seed; fail the build if it reported errors.
      "cloud-init status --wait --long",
      # Let instances made from the image run cloud-init as a new instance, with their
      # own seed or metadata service, host keys and machine id.
      "sudo cloud-init clean --logs --machine-id --seed",
    ]
  }
}
